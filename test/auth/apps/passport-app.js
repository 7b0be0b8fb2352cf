// passport-local + express-session + a CSRF middleware; sign up, log in, log out. No tripline calls.
'use strict';
const express = require('express');
const session = require('express-session');
const passport = require('passport');
const LocalStrategy = require('passport-local').Strategy;
const cookieParser = require('cookie-parser');
const { doubleCsrf } = require('csrf-csrf');

const users = new Map(); // name -> { id, name, password, roles }
passport.use(new LocalStrategy({ usernameField: 'email', passwordField: 'pass' }, (email, pass, done) => {
  const u = users.get(email);
  if (!u) return done(null, false, { message: 'Unknown user' });
  if (u.password !== pass) return done(null, false, { message: 'Incorrect password' });
  return done(null, u);
}));
passport.serializeUser((u, done) => done(null, u.name));
passport.deserializeUser((name, done) => done(null, users.get(name) || false));

const { doubleCsrfProtection, generateCsrfToken } = doubleCsrf({
  getSecret: () => 'csrf-secret-for-tests-only',
  getSessionIdentifier: (req) => req.sessionID,
  cookieName: 'x-csrf-token',
  cookieOptions: { secure: false, sameSite: 'lax' },
  getCsrfTokenFromRequest: (req) => req.headers['x-csrf-token'],
});

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: false }));
app.use(cookieParser());
app.use(session({ secret: 'session-signing-secret', resave: false, saveUninitialized: true }));
app.use(passport.initialize());
app.use(passport.session());
app.get('/csrf', (req, res) => res.json({ token: generateCsrfToken(req, res) }));
app.use(doubleCsrfProtection);
app.post('/signup', (req, res) => {
  users.set(req.body.email, { id: String(users.size + 1), name: req.body.email, password: req.body.pass, roles: ['user'] });
  res.status(201).json({ ok: true });
});
app.post('/login', passport.authenticate('local', { failureMessage: true }), (req, res) => res.json({ ok: true, user: req.user.name }));
app.get('/me', (req, res) => (req.user ? res.json({ user: req.user.name }) : res.status(401).end()));
app.post('/logout', (req, res, next) => req.logout((err) => (err ? next(err) : res.json({ ok: true }))));
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
