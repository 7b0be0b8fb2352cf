import type { InstrumentationEntry } from './types';
import { createHttpClientInstrumentation, HttpRecordProcessor } from './http';
import { HttpServerInstrumentation, ServerRecords } from './http-server';
import { express } from './express';
import { koa } from './koa';
import { fastify } from './fastify';
import { loginRoutes } from './login-routes';
import { adminRoutes } from './admin';
import { httpAttacks } from './http-attacks';
import { pg } from './db/pg';
import { mysql2 } from './db/mysql2';
import { mysql } from './db/mysql';
import { ioredis } from './db/ioredis';
import { passport } from './passport';
import { jsonwebtoken } from './jsonwebtoken';
import { jose } from './jose';
import { expressSession } from './express-session';
import { mcp } from './mcp';

const http: InstrumentationEntry = {
  name: 'http',
  create: ({ config, resolver, hooks }) => [new HttpServerInstrumentation(new ServerRecords(config, resolver, hooks)), createHttpClientInstrumentation()],
  spanProcessors: ({ config }) => [new HttpRecordProcessor(config)],
};

/** Every instrumentation tripline ships, in load order. Add new ones here (one file each). */
export const INSTRUMENTATIONS: readonly InstrumentationEntry[] = [http, express, koa, fastify, loginRoutes(), adminRoutes(), httpAttacks, pg, mysql2, mysql, ioredis, passport, expressSession, jsonwebtoken, jose, mcp];

export function selectInstrumentations(only: readonly string[], disabled: readonly string[]): InstrumentationEntry[] {
  return INSTRUMENTATIONS.filter((e) => (only.length === 0 || only.includes(e.name)) && !disabled.includes(e.name));
}
