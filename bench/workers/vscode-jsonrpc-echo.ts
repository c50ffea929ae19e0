// The peer-library baseline over stdio: vscode-jsonrpc (Content-Length framing, JSON) serving echo.
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node.js'

const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout))
connection.onRequest('echo', (value: unknown) => value)
connection.onClose(() => process.exit(0))
connection.listen()
