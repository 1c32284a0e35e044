// Injected by esbuild into browser bundles of Node-style packages (mqtt-packet): the globals
// they expect. Only used by the benchmarks.
import { Buffer } from 'buffer';
import process from 'process';
export { Buffer, process };
