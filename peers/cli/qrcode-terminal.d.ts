// Types for qrcode-terminal 0.12, which ships none; only what qr.ts uses.
declare module 'qrcode-terminal' {
  const qrcodeTerminal: {
    generate (input: string, opts: { small?: boolean }, cb: (output: string) => void): void
  }
  export default qrcodeTerminal
}
