import { defineConfig } from "vite";

// `npm run dev` proxies the API to a running `soma serve` (SOMA_URL, default
// http://127.0.0.1:8080); the production build is served by `soma serve` itself.
export default defineConfig({
  server: {
    proxy: { "/v1": process.env.SOMA_URL ?? "http://127.0.0.1:8080" },
  },
  build: { outDir: "dist", sourcemap: true, chunkSizeWarningLimit: 800 },
});
