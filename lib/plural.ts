// Counts in words, shared by the status site and the health mail, so no page or mail says
// "1 failures" or "call(s)".

/**
 * The count and the noun in the form the count takes: "1 run", "0 runs", "2 failures";
 * many is for nouns that do not just add an s ("1 entry", "3 entries").
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
