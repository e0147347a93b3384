-- Organisers' decisions on submissions: when, and the note given.
ALTER TABLE submissions ADD COLUMN reviewed_at TEXT;
ALTER TABLE submissions ADD COLUMN review_note TEXT;

-- The public leaderboard, rebuilt after every decision and served as it is (never computed per request).
CREATE TABLE leaderboard_snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at TEXT NOT NULL,
  etag TEXT NOT NULL,
  json TEXT NOT NULL
);
