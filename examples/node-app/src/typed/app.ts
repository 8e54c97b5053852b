// Bundled by esbuild (Metadata.BuildMethod: esbuild): tiny-pad is inlined into app.js, so the zip holds no node_modules.
import pad = require("tiny-pad");

interface Event {
  name?: string;
}

interface Reply {
  message: string;
  padded: string;
  pad: string;
}

export const handler = async (event: Event): Promise<Reply> => {
  const name: string = event.name ?? "typed world";
  return { message: `Hello from TypeScript, ${name}!`, padded: pad(name, 14), pad: pad.version };
};
