// Which model ids are worth benchmarking (SPEC 5): models.ts refuses the rest unless forced,
// and discovery leaves them out of its report. Each refusal says what to do instead.

export interface Refusal {
  reason: string;
  /** A model id to use instead, when there is one. */
  suggestion: string | null;
}

// Not text chat models: they cannot stream a story, so every call would be a failure row.
const NOT_CHAT: Array<[RegExp, string]> = [
  // DeepInfra and Together list embedding models by family name (BAAI/bge-m3, intfloat/e5-large-v2, thenlper/gte-large).
  [/embed|(^|[-_/.:])(bge|gte|e5)-|sentence-transformers|minilm/i, 'an embedding model'],
  [/(^|[-_/.:])tts([-_/.:]|$)|text-to-speech|-speech-|^speech/i, 'a text-to-speech model'],
  [/whisper|transcri|speech-to-text|(^|[-_/.:])stt([-_/.:]|$)/i, 'a speech-to-text model'],
  [/dall-e|(^|[-_/.:])sora|image|imagen|canvas|stable-diffusion|(^|[-_/.:])sd3|(^|[-_/.:])flux|titan-image|nova-reel|(^|[-_/.:])veo|video/i, 'an image or video generation model'],
  // Gemini's Live API models (gemini-live-2.5-flash, gemini-2.0-flash-live-001) only speak its WebSocket API.
  [/realtime|(^|[-_/.:])audio|nova-sonic|(^|[-_/.:])live([-_/.:]|$)/i, 'a realtime or audio model'],
  // OpenAI still lists these; neither the Responses nor the Chat Completions API serves them.
  [/^(davinci|babbage)-\d+$|gpt-3\.5-turbo-instruct/i, 'a legacy completions-only model (no chat API)'],
  [/computer-use/i, 'a computer-use model (it answers with tool calls, not text)'],
  [/guard|moderation|prompt-guard|safeguard/i, 'a safety classifier (guard/moderation), not a chat model'],
  [/(^|[-_/.:])compound/i, 'a compound system (it calls tools and other models, so its speed is not the model\'s)'],
  [/rerank/i, 'a reranker'],
];

/** Why provider/modelId should not be benchmarked, or null when it may be. `models.ts add --force` overrides any of these. */
export function checkModelId(provider: string, modelId: string): Refusal | null {
  if (provider === 'bedrock') {
    const bedrock = checkBedrockId(modelId);
    if (bedrock) return bedrock;
  }
  for (const [re, what] of NOT_CHAT) {
    if (re.test(modelId)) return { reason: `${provider}/${modelId} looks like ${what}; llm-bench measures streamed text chat`, suggestion: null };
  }
  return null;
}

/**
 * Bedrock id rules (seeds/000): Anthropic models need the cross-region `us.anthropic.`
 * inference profile, Meta Llama 3.2 and later `us.meta.`, Llama 3.1 and older plain `meta.`.
 * An un-prefixed Anthropic id fails at call time with "Invocation of model ID … with
 * on-demand throughput isn't supported".
 */
function checkBedrockId(id: string): Refusal | null {
  if (/^anthropic\./.test(id)) {
    return {
      reason: `bedrock/${id} fails at call time ("on-demand throughput isn't supported"): Anthropic models on Bedrock need the us. inference profile`,
      suggestion: `us.${id}`,
    };
  }
  const llama = /^(us\.)?meta\.llama(\d+)(?:-(\d+))?/.exec(id);
  if (llama) {
    const major = Number(llama[2]);
    const minor = Number(llama[3] ?? 0);
    const modern = major > 3 || (major === 3 && minor >= 2);
    if (modern && !llama[1]) {
      return { reason: `bedrock/${id}: Meta Llama 3.2 and later need the us. inference profile`, suggestion: `us.${id}` };
    }
    if (!modern && llama[1]) {
      return { reason: `bedrock/${id}: Meta Llama 3.1 and older are invoked without the us. prefix`, suggestion: id.slice(3) };
    }
  }
  return null;
}
