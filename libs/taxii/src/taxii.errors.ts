/** A TAXII error: becomes an error message resource (TAXII 2.1 §3.6.1) with this HTTP status. */
export class TaxiiError extends Error {
  override readonly name = 'TaxiiError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly description?: string,
  ) {
    super(description ? `${title}: ${description}` : title);
  }
}
