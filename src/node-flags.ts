// V8 flags Berth runs with (npm start, the `berth` shebang, the benchmark and the tests' child processes).
// A 4 MiB young-generation semi-space instead of V8's 16 MiB default: a registry's short-lived objects are small
// (request state, 64 KiB stream chunks) and die young either way, and the smaller nursery keeps about 20 MB
// of RSS off an idle process and off every busy one (the peak-RSS target under 20 parallel uploads is 300 MB).
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
