/** Reading `serverless deploy list`: which deployment came before the current one. */

/** Every `Timestamp: <epoch ms>` the listing prints, oldest first. */
export function deploymentTimestamps(listing: string): number[] {
  return [...listing.matchAll(/^\s*Timestamp:\s*(\d{10,})\s*$/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
}

/** The deployment before the newest one, or undefined when there is no earlier one. */
export function previousDeployment(listing: string): number | undefined {
  const timestamps = deploymentTimestamps(listing);
  return timestamps.length >= 2 ? timestamps[timestamps.length - 2] : undefined;
}
