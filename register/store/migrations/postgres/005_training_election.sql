-- Issue 18: an election can be a training election (øvingsvalg). A register holding a
-- real election refuses training credentials; a training kiosk refuses a real register.
ALTER TABLE election ADD COLUMN training boolean NOT NULL DEFAULT false;
