/**
 * Diagnostics for the CLI: warnings and progress go to stderr. Progress is shown only on a TTY;
 * otherwise output stays quiet and machine-readable.
 */
export interface Logger {
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  /** Transient progress line (TTY only); pass '' to clear. */
  progress(msg: string): void;
}

export interface LoggerOptions {
  quiet?: boolean;
  debug?: boolean;
  stream?: NodeJS.WriteStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const out = opts.stream ?? process.stderr;
  const tty = Boolean(out.isTTY) && !opts.quiet;
  let progressShown = false;
  const clear = () => {
    if (progressShown) {
      out.write('\r\x1b[2K');
      progressShown = false;
    }
  };
  return {
    warn(msg) {
      clear();
      out.write(`WARN ${msg}\n`);
    },
    info(msg) {
      if (opts.quiet) return;
      clear();
      out.write(`INFO ${msg}\n`);
    },
    debug(msg) {
      if (!opts.debug) return;
      clear();
      out.write(`DEBUG ${msg}\n`);
    },
    progress(msg) {
      if (!tty) return;
      clear();
      if (msg) {
        const width = (out.columns ?? 80) - 1;
        out.write(msg.length > width ? msg.slice(0, width) : msg);
        progressShown = true;
      }
    },
  };
}

/** A logger that records everything (tests) or drops everything. */
export function memoryLogger(): Logger & { warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  return {
    warnings,
    infos,
    warn: (m) => void warnings.push(m),
    info: (m) => void infos.push(m),
    debug: () => {},
    progress: () => {},
  };
}
