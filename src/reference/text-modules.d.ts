/** wrangler bundles *.txt as text modules (its default module rules). */
declare module "*.txt" {
  const text: string;
  export default text;
}
