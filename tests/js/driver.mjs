// What every test driver here shares: one JSON line per finding on stdout, a failure line and
// exit 1 on failure, and a deadline after which the program fails.

export const log = (o) => console.log(JSON.stringify(o));

export function fail(msg) {
  log({ event: "failure", msg: String(msg?.stack ?? msg) });
  process.exit(1);
}

/** Fails the program if it runs longer than `ms`; returns the function that ends it well. */
export function deadline(ms) {
  const timer = setTimeout(() => fail("timed out"), ms);
  return () => {
    clearTimeout(timer);
    process.exit(0);
  };
}
