// The FLASH alarm's sound: three short tones made with WebAudio (no audio file). Browsers let a
// page start sound only after the person has interacted with it, so the AudioContext is made on
// the first click or key press (logging in is one); before that the alarm is visible only.

let context = null;

/** Make the AudioContext on the first interaction with the page. */
export function armSound() {
  const unlock = () => {
    try {
      context ??= new AudioContext();
      if (context.state === "suspended") context.resume().catch(() => {});
    } catch {
      context = null; // no audio here: the alarm stays visible only
    }
  };
  for (const type of ["pointerdown", "keydown"]) {
    window.addEventListener(type, unlock, { capture: true, passive: true });
  }
}

/** Sound the alarm once; false when the page may not (yet) make sound. */
export function soundAlarm() {
  if (!context || context.state !== "running") return false;
  const start = context.currentTime + 0.02;
  [880, 660, 880].forEach((hz, i) => {
    const t = start + i * 0.22;
    const tone = context.createOscillator();
    const gain = context.createGain();
    tone.type = "square";
    tone.frequency.value = hz;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02); // no click at the edges
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.18);
    tone.connect(gain).connect(context.destination);
    tone.start(t);
    tone.stop(t + 0.2);
  });
  return true;
}
