// Builds the console into the Python package, where the service serves it at `/`.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: fileURLToPath(new URL("../src/deconfliction/console/static", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    chunkSizeWarningLimit: 2000, // the Natural Earth borders are bundled on purpose
  },
});
