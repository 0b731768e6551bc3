// Long prompts for input-length scenarios (SPEC 19): a prompt of N tokens by the o200k
// tokenizer, built fresh for every call from words the project ships, led by a random nonce
// so that no two calls share a prefix a provider's prompt cache could serve.
import { randomBytes } from 'node:crypto';

/**
 * 128 common words (one byte of randomness picks one, without bias). Each, after a space, is
 * one o200k token, so the prompt's length can be counted as it is built.
 */
const WORDS = (
  'the of and to in is was for on that with as by at from this are be it or an which not have has ' +
  'one all their new more other two about time may only after most some first such over into these ' +
  'also year city part used many between during under where while three both house water early ' +
  'through state work known people place small world line local since system number high later ' +
  'each group river long found being then name well back same four best open hand made school ' +
  'court road music public until home power land game family still field market north south east ' +
  'west light table paper story green black white order point plan short around winter summer village letter garden window stone'
).split(' ');

/** A sentence ends after this many words, so the text reads as prose to a tokenizer. */
const SENTENCE_WORDS = 12;
const QUESTION = '\n\nIn one paragraph, say what the notes above are about.';

/** Bytes a prompt of n tokens can have at most (the daily budget's worst case counts bytes). */
export function maxPromptBytes(n: number): number {
  // Every token is a word after its space or a full stop; the nonce's few tokens are in the 64.
  const longest = Math.max(...WORDS.map((w) => w.length)) + 1;
  return n * longest + QUESTION.length + 64;
}

type Count = (text: string) => number;
let counter: Promise<Count> | null = null;

function countTokens(): Promise<Count> {
  counter ??= import('gpt-tokenizer/encoding/o200k_base').then((m) => (t: string) => m.countTokens(t));
  return counter;
}

/** A prompt's length in o200k tokens (what a scenario's cost is estimated with). */
export async function countPromptTokens(text: string): Promise<number> {
  return (await countTokens())(text);
}

/** Each word as bytes after its space, and again with a full stop: copied, never concatenated. */
const WORD_BYTES = WORDS.map((w) => Buffer.from(` ${w}`));
const WORD_STOP_BYTES = WORDS.map((w) => Buffer.from(` ${w}.`));

/**
 * A prompt of `tokens` o200k tokens (a handful over or under where words merge at the edges):
 * `[nonce]`, random words from the shipped list in sentences, then a question. The random words
 * make every part of it unique, not only its start.
 *
 * The words are copied into one byte buffer and decoded once: a 100k-token prompt is one 0.5 MB
 * string and one short-lived buffer, not 100,000 small strings and an array joined at the end
 * (16 times the prompt's size in garbage, most of it old enough to reach V8's old generation,
 * which only a full collection frees: the sweep's peak RSS, issue 27).
 */
export async function buildLongPrompt(tokens: number, o: { nonce?: string } = {}): Promise<{ prompt: string; nonce: string }> {
  const count = await countTokens();
  const nonce = o.nonce ?? randomBytes(6).toString('hex');
  const head = `[${nonce}] Notes:`;
  const fixed = count(head) + count(QUESTION);
  const words = Math.max(1, tokens - fixed);
  const picks = randomBytes(words);
  const text = Buffer.allocUnsafe(Buffer.byteLength(head) + maxPromptBytes(words));
  let at = text.write(head, 0);
  // A full stop is a token of its own: each sentence's last word gives way to it.
  let used = 0;
  let inSentence = 0;
  while (used < words) {
    const pick = picks[used]! % WORDS.length;
    if (inSentence === SENTENCE_WORDS - 1 && used + 2 <= words) {
      at += WORD_STOP_BYTES[pick]!.copy(text, at);
      used += 2;
      inSentence = 0;
    } else {
      at += WORD_BYTES[pick]!.copy(text, at);
      used += 1;
      inSentence += 1;
    }
  }
  at += text.write(QUESTION, at);
  return { prompt: text.toString('utf8', 0, at), nonce };
}
