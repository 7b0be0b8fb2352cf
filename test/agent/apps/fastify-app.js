'use strict';
const fastify = require('fastify')();
fastify.get('/orders/:id', async (req) => ({ id: req.params.id }));
fastify.get('/locked', async (_req, reply) => reply.code(403).send({ error: 'no' }));
fastify.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' }).then(() => {
  console.log(`listening on http://127.0.0.1:${fastify.server.address().port}`);
});
