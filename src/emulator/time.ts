/** Epoch seconds: what AWS JSON 1.1 uses for timestamps (the emulator keeps epoch ms). */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}
