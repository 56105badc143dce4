// How hard the fault suite pushes: a fixed seed so a failure reproduces (fast-check prints the seed and
// path of a counterexample), and FAULT_SCALE to run more cases outside CI (`npm run test:fault:long`).
export const seed = Number(process.env.FAULT_SEED ?? 20261202);
export const scale = Number(process.env.FAULT_SCALE ?? 1);
export const runs = (count: number) => Math.max(1, Math.round(count * scale));
