/**
 * A short two-tone chime for a new offer, synthesised with WebAudio: no audio file, no
 * request. Browsers only let audio start after a user gesture, so `unlock()` runs on the
 * first key press or click in the page (logging in is one) and `chime()` stays silent
 * until then.
 */
let context = null;

export function unlockOnFirstGesture () {
    for (const name of ['pointerdown', 'keydown']) {
        window.addEventListener(name, unlock, { once: true, capture: true });
    }
}

export function unlock () {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    context = context ?? new Ctx();
    if (context.state === 'suspended') context.resume();
}

export function chime () {
    if (!context || context.state !== 'running') return false;
    const start = context.currentTime;
    [[660, 0], [880, 0.18]].forEach(([frequency, offset]) => {
        const osc = context.createOscillator();
        const gain = context.createGain();
        osc.type = 'sine';
        osc.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, start + offset);
        gain.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.35);
        osc.connect(gain).connect(context.destination);
        osc.start(start + offset);
        osc.stop(start + offset + 0.4);
    });
    return true;
}
