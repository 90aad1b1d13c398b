// The node:http2 floor (http2-floor.ts) as a process of its own, for the
// suite's idle-scale scenario, on a free port. Prints {"listening":PORT}.
import { startHttp2Floor } from "./http2-floor.js";

const { port } = await startHttp2Floor(0);
console.log(JSON.stringify({ listening: port }));
