import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// Relative asset URLs: the page works served by `gavel serve` at `/` or hosted anywhere else.
export default defineConfig({
  base: "./",
  // ../openapi/client imports openapi-fetch from this package's node_modules.
  resolve: { alias: { "openapi-fetch": fileURLToPath(new URL("./node_modules/openapi-fetch", import.meta.url)) } },
  build: { outDir: "dist", emptyOutDir: true },
  server: { fs: { allow: [".."] } },
});
