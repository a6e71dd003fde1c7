/**
 * Getting the advisor's attention for a new offer: a vibration and a short beep, where the browser
 * allows them. Both need the user to have interacted with the page first (Chrome blocks vibrate and
 * keeps an AudioContext suspended until then, and says so in the console), so neither is tried
 * before that; without them the card and the announcement still tell the advisor.
 */

let audio: AudioContext | null = null;

/** Creates (or resumes) the audio context inside a user gesture, which is when browsers allow it. */
function unlockAudio(): void {
  try {
    if (!audio && typeof AudioContext === "function") audio = new AudioContext();
    if (audio?.state === "suspended") void audio.resume().catch(() => undefined);
  } catch {
    audio = null;
  }
}

/** Call once: from the first tap or key press on, offers may beep. */
export function armAttention(): void {
  window.addEventListener("pointerdown", unlockAudio, { once: true, capture: true });
  window.addEventListener("keydown", unlockAudio, { once: true, capture: true });
}

function beep(): void {
  if (audio?.state !== "running") return;
  // Generated here: two short tones, nothing fetched.
  const start = audio.currentTime;
  for (const [offset, frequency] of [
    [0, 880],
    [0.18, 1175],
  ] as const) {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.2, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.15);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(start + offset);
    oscillator.stop(start + offset + 0.16);
  }
}

function vibrate(): void {
  const activated = (navigator as Navigator & { userActivation?: { hasBeenActive: boolean } }).userActivation?.hasBeenActive ?? false;
  if (activated && typeof navigator.vibrate === "function") navigator.vibrate([200, 100, 200]);
}

/** A new offer came in. Never throws: attention is a courtesy, the card is what matters. */
export function announceOffer(): void {
  try {
    vibrate();
    beep();
  } catch {
    // a browser that refuses: the card alone
  }
}
