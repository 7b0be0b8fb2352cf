'use strict';
const Koa = require('koa');
const Router = require('@koa/router');
const app = new Koa();
const router = new Router();
router.get('/items/:id', (ctx) => {
  ctx.body = { id: ctx.params.id };
});
router.get('/private', (ctx) => {
  ctx.status = 401;
});
app.use(router.routes());
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
