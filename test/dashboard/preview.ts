/**
 * A dashboard to look at: the browser tests' data set on a real server, until Ctrl-C.
 *
 *   npx tsx test/dashboard/preview.ts [port]
 */
import { startFixture } from "./fixture.js";

const fx = await startFixture({ port: Number(process.argv[2] ?? 3000) });
console.log(`Dashboard: ${fx.url}/\nadmin token: ${fx.adminToken}\nread token:  ${fx.readToken}`);
const stop = () => void fx.close().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
