// The read-only API: lists, history and KPIs from the index; live values from the chain.
export async function api(path) {
  const response = await fetch(`/api${path}`);
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || `${response.status}`);
  return body;
}
