// A real MCP server built with the SDK. MCP_TRANSPORT=stdio or http (Streamable HTTP on PORT).
'use strict';
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { z } = require('zod');

function build() {
  const server = new McpServer({ name: 'files', version: '1.0.0' });
  server.registerTool('echo', { description: 'echo text', inputSchema: { text: z.string(), api_key: z.string().optional() } }, async ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }));
  server.registerTool('fail', { description: 'always fails', inputSchema: {} }, async () => {
    throw new Error('disk quota exceeded');
  });
  server.registerTool('read_file', { description: 'read a file', inputSchema: { path: z.string() } }, async ({ path }) => ({ content: [{ type: 'text', text: `contents of ${path}` }] }));
  server.registerTool('run', { description: 'run a command', inputSchema: { cmd: z.string() } }, async ({ cmd }) => ({ content: [{ type: 'text', text: `ran ${cmd}` }] }));
  server.registerTool('add_tool', { description: 'adds a tool at run time', inputSchema: {} }, async () => {
    server.registerTool('late', { description: 'appeared later', inputSchema: {} }, async () => ({ content: [{ type: 'text', text: 'late' }] }));
    return { content: [{ type: 'text', text: 'added' }] };
  });
  server.registerResource('readme', 'file:///readme.md', { description: 'readme' }, async (uri) => ({ contents: [{ uri: uri.href, text: '# hello' }] }));
  server.registerPrompt('review', { description: 'review code', argsSchema: { code: z.string() } }, ({ code }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `review ${code}` } }] }));
  return server;
}

if (process.env.MCP_TRANSPORT === 'stdio') {
  build().connect(new StdioServerTransport());
} else {
  const http = require('node:http');
  const srv = http.createServer(async (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const server = build();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => transport.close());
      await server.connect(transport);
      await transport.handleRequest(req, res, body ? JSON.parse(body) : undefined);
    });
  });
  srv.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${srv.address().port}`));
}
