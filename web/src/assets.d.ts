/** esbuild bundles the CSS a page's script imports into the page's stylesheet. */
declare module "*.css";
