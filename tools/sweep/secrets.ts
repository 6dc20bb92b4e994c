// Reads the sweep's secrets from where the options say: a file, the next line of stdin, or a terminal prompt that
// echoes nothing. Secrets only ever pass through memory; nothing here prints them.

import { readFile } from "node:fs/promises";
import type { SecretSource } from "./options";
import { SecretError } from "./wallet";

/** Stdin, read to its end once and handed out line by line, in the order the secrets are asked for. */
export class StdinLines {
  private lines: Promise<string[]> | null = null;
  private next = 0;

  constructor(private readonly input: NodeJS.ReadableStream = process.stdin) {}

  async line(what: string): Promise<string> {
    this.lines ??= readAll(this.input).then((text) => text.split(/\r?\n/));
    const line = (await this.lines)[this.next++];
    if (line === undefined || line.trim() === "") throw new SecretError(`stdin ended before the ${what}`);
    return line;
  }
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

export async function readSecret(source: SecretSource, what: string, stdin: StdinLines): Promise<string> {
  switch (source.from) {
    case "file": {
      const text = (await readFile(source.path, "utf8")).trim();
      if (text === "") throw new SecretError(`the ${what} file is empty`);
      return text;
    }
    case "stdin":
      return stdin.line(what);
    case "prompt":
      return promptHidden(`${what}: `);
  }
}

/** A line typed on the terminal without echo. Ctrl-C aborts; backspace edits. */
export function promptHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) throw new SecretError(`no terminal to prompt for the ${prompt.replace(/: $/, "")} on; use a -file or -stdin option`);
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let typed = "";
    const finish = (done: () => void) => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write("\n");
      done();
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") return finish(() => resolve(typed));
        if (char === "\u0003") return finish(() => reject(new SecretError("cancelled")));
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    input.setRawMode(true);
    input.resume();
    input.on("data", onData);
  });
}

/** A yes/no question on the terminal; anything but y/yes is no. */
export function confirm(question: string): Promise<boolean> {
  const input = process.stdin;
  if (!input.isTTY) return Promise.resolve(false);
  process.stderr.write(`${question} [y/N] `);
  return new Promise((resolve) => {
    input.resume();
    input.once("data", (chunk: Buffer) => {
      input.pause();
      resolve(/^\s*y(es)?\s*$/i.test(chunk.toString("utf8")));
    });
  });
}
