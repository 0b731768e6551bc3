// The daily budget (SPEC 17, BENCH_DAILY_BUDGET_USD). Before each call its worst case is added
// to what the day (UTC) has spent: the stored rows of the day, what this sweep has spent since,
// and the worst cases of the calls still in flight. A call that would pass the limit is not
// started. Reserving the worst case before the call and settling to the real cost after keeps
// the limit under concurrency: calls running side by side can never overshoot it together.
//
// A model whose price is unknown is not started while a budget is set: its cost cannot be
// bounded, and a budget that lets unbounded calls through does not hold. The journal line says
// so and how to give it a price (misc.price, or discovery for the OpenRouter catalog).
import type { Config } from '../config.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { Store, TimeWindow } from '../store/store.ts';
import { checkMiscPrice, createPriceBook, formatUsd, type PriceBook, type PricedModel } from './cost.ts';
import { maxPromptBytes } from './prompts.ts';

const DAY_MS = 86_400_000;
const PER_MILLION = 1_000_000;
/**
 * Tokens a chat template may add around the prompt (role markers; Llama 3.1's default system
 * header is about 25): generous, since the worst case must not be below the real cost.
 */
export const CHAT_TEMPLATE_TOKENS = 64;

/** What a call sends: its prompt and its max output tokens. */
export interface CallShape {
  prompt: string;
  maxTokens: number;
  /** A generated prompt of this many tokens replaces `prompt` (SPEC 19). */
  inputTokens?: number | null;
}

export interface BudgetOptions {
  /** BENCH_DAILY_BUDGET_USD. */
  limitUsd: number;
  prices: PriceBook;
  /**
   * What the stored rows of a UTC day have spent; asked once per day the sweep runs in. null
   * when there is no store (a remote runner): then only this sweep's own calls are counted.
   */
  spentOn: ((day: TimeWindow) => Promise<number>) | null;
  /** Wall-clock epoch milliseconds (the sweep clock's wallNow). */
  wallNow: () => number;
}

/** A started call's hold on the budget, to settle when it ends. */
export interface BudgetTicket {
  readonly worstUsd: number;
  readonly day: DayState;
}

export type Admission = { ok: true; ticket: BudgetTicket } | { ok: false; reason: string };

export interface DailyBudget {
  /** Reserves the call's worst case, or says why it must not start (also when the day's spend cannot be read). Never throws. */
  admit(model: PricedModel, call: CallShape): Promise<Admission>;
  /** Replaces the reservation with the call's cost; null (unknown: a failed call, a row without counts) keeps the worst case. */
  settle(ticket: BudgetTicket, costUsd: number | null): void;
}

interface DayState {
  start: number;
  stored: number;
  spent: number;
  reserved: number;
}

/**
 * An upper bound on a call's cost in USD: every prompt byte a token (byte-level tokenizers
 * never make more tokens than bytes) plus the chat template, and the whole output budget.
 */
export function worstCaseUsd(price: { input: number; output: number }, call: CallShape): number {
  const promptBytes = call.inputTokens ? maxPromptBytes(call.inputTokens) : Buffer.byteLength(call.prompt, 'utf8');
  const promptTokens = promptBytes + CHAT_TEMPLATE_TOKENS;
  return (promptTokens * price.input + call.maxTokens * price.output) / PER_MILLION;
}

export function createDailyBudget(o: BudgetOptions): DailyBudget {
  const days = new Map<number, Promise<DayState>>();
  const dayState = (start: number): Promise<DayState> => {
    let state = days.get(start);
    if (!state) {
      const window = { since: new Date(start), until: new Date(start + DAY_MS) };
      state = (o.spentOn ? o.spentOn(window) : Promise.resolve(0)).then((stored) => ({ start, stored, spent: 0, reserved: 0 }));
      // A failed query is asked again by the next call rather than remembered.
      state.catch(() => days.delete(start));
      days.set(start, state);
    }
    return state;
  };

  return {
    async admit(model, call) {
      const now = o.wallNow();
      let state: DayState;
      try {
        state = await dayState(now - (now % DAY_MS));
      } catch (err) {
        // Not knowing the day's spend, the budget cannot be held: the call does not start.
        return { ok: false, reason: `cannot read today's spend, so BENCH_DAILY_BUDGET_USD cannot be checked: ${(err as Error).message}` };
      }
      // From here to the reservation nothing awaits, so calls admitted side by side see each other.
      const price = o.prices.priceOf(model);
      if (!price) {
        const invalid = model.misc?.price !== undefined ? checkMiscPrice(model.misc.price) : null;
        return {
          ok: false,
          reason:
            `price unknown${invalid ? ` (${invalid})` : ''}, so its cost cannot be held to BENCH_DAILY_BUDGET_USD=${o.limitUsd}: ` +
            `give it a price with misc.price, or run discovery so the OpenRouter catalog has it`,
        };
      }
      const worst = worstCaseUsd(price, call);
      const committed = state.stored + state.spent + state.reserved;
      if (committed + worst > o.limitUsd) {
        return {
          ok: false,
          reason: `daily budget: its worst case ${formatUsd(worst)} on top of ${formatUsd(committed)} spent today (UTC) would pass BENCH_DAILY_BUDGET_USD=${o.limitUsd}`,
        };
      }
      state.reserved += worst;
      return { ok: true, ticket: { worstUsd: worst, day: state } };
    },
    settle(ticket, costUsd) {
      ticket.day.reserved -= ticket.worstUsd;
      ticket.day.spent += costUsd ?? ticket.worstUsd;
    },
  };
}

/**
 * A sweep's prices and budget from the config: prices from misc.price and the store's OpenRouter
 * catalog, and the budget when BENCH_DAILY_BUDGET_USD is set. A remote runner (no store) has
 * misc.price only, and its budget counts only its own sweep: the day's rows are in the ingest
 * server's database.
 * @throws what the store throws.
 */
export async function sweepCostOptions(
  config: Pick<Config, 'cost'>,
  store: Pick<Store, 'listOpenRouterCatalog' | 'spendByDay'> | null,
  o: { wallNow?: () => number; logger?: Logger } = {},
): Promise<{ prices: PriceBook; budget?: DailyBudget }> {
  const prices = createPriceBook(store ? await store.listOpenRouterCatalog() : []);
  const limitUsd = config.cost.dailyBudgetUsd;
  if (limitUsd === null) return { prices };
  if (!store) {
    (o.logger ?? silentLogger).warn(
      `BENCH_DAILY_BUDGET_USD=${limitUsd} counts only this sweep's calls on a remote runner: the day's spend is in the ingest server's database`,
    );
  }
  const spentOn = store ? async (day: TimeWindow) => (await store.spendByDay(day)).reduce((sum, r) => sum + r.cost_usd, 0) : null;
  return { prices, budget: createDailyBudget({ limitUsd, prices, spentOn, wallNow: o.wallNow ?? Date.now }) };
}
