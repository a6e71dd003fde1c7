// msgpackr loads its optional native accelerator inside try/catch and falls back to its JavaScript
// decoder when the load throws. See README.md for why this stub replaces the real package.
throw new Error("msgpackr-extract is stubbed in advisor-dispatch: msgpackr uses its JavaScript decoder");
