// The read-only API: lists, history and KPIs from the index; live values from the chain. A failure is
// an ApiError whose message is a sentence in the user's language (by the answer's status code; the
// server's own English words stay in `detail`, for the log).
import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, detail) {
    const key = { 400: "apiBadRequest", 404: "apiNotFound", 422: "apiBadRequest", 429: "apiBusy", 503: "apiChainDown" };
    super(t(key[status] ?? "apiServerError", { status }));
    this.status = status;
    this.detail = detail;
  }
}

export async function api(path) {
  let response;
  try {
    response = await fetch(`/api${path}`);
  } catch (err) {
    throw new ApiError(0, String(err));
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    console.warn(`GET /api${path}: ${response.status} ${body.message ?? ""}`);
    throw new ApiError(response.status, body.message);
  }
  return body;
}
