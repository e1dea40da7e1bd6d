package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/civitas-net/civitas/internal/keystore"
	"github.com/civitas-net/civitas/issuer/store"
	"github.com/civitas-net/civitas/issuer/store/postgres"
	"github.com/civitas-net/civitas/issuer/store/sqlite"
)

// Files in the data folder.
const (
	dbFile         = "civitas.db"
	secretFile     = "keystore.secret"
	adminTokenFile = "admin.token"
	passphraseEnv  = "CIVITAS_KEYSTORE_PASSPHRASE"
)

// storeConfig says where the issuer's state lives.
type storeConfig struct {
	// DataDir holds the SQLite database (by default), the keystore secret (when no
	// passphrase is given) and the first admin token.
	DataDir string
	// DBURL, when set, is a postgres:// URL used instead of the SQLite file.
	DBURL string
}

// Validate checks the configuration before anything is opened.
func (c storeConfig) Validate() error {
	if c.DataDir == "" {
		return errors.New("--data must name a folder")
	}
	if c.DBURL != "" && !strings.HasPrefix(c.DBURL, "postgres://") && !strings.HasPrefix(c.DBURL, "postgresql://") {
		return errors.New("--db must be a postgres:// URL (leave it out for the embedded SQLite store)")
	}
	return nil
}

func (c storeConfig) postgres() bool { return c.DBURL != "" }

// describe names the store for people, without a password from the URL.
func (c storeConfig) describe() string {
	if !c.postgres() {
		return "sqlite " + filepath.Join(c.DataDir, dbFile)
	}
	u, err := url.Parse(c.DBURL)
	if err != nil {
		return "postgres (unparsable URL)"
	}
	return "postgres " + u.Redacted()
}

// ensureDataDir creates the data folder (mode 0700) if needed.
func (c storeConfig) ensureDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	return nil
}

// openStore opens and migrates the store.
func (c storeConfig) openStore(ctx context.Context) (store.Store, error) {
	var st store.Store
	var err error
	if c.postgres() {
		st, err = postgres.Open(ctx, c.DBURL)
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(c.DataDir, dbFile))
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", c.describe(), err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate %s: %w", c.describe(), err)
	}
	return st, nil
}

// Settings that describe the keystore's key derivation.
const (
	settingKeystoreSalt   = "keystore.salt"
	settingKeystoreParams = "keystore.params"
)

// keyEncryptionKey derives the key that seals the signing keys in the store, from
// CIVITAS_KEYSTORE_PASSPHRASE or, for the embedded store only, from a random secret file
// created (mode 0600) in the data folder on first start. The salt and Argon2id
// parameters are kept in the store, so every process derives the same key.
func (c storeConfig) keyEncryptionKey(ctx context.Context, st store.Store) (*keystore.Key, error) {
	secret := []byte(os.Getenv(passphraseEnv))
	if len(secret) == 0 {
		if c.postgres() {
			return nil, fmt.Errorf("set %s: with PostgreSQL every replica must derive the same key-encryption key", passphraseEnv)
		}
		var err error
		if secret, err = c.secretFile(); err != nil {
			return nil, err
		}
	}
	salt := base64.RawStdEncoding.EncodeToString(keystore.NewSalt())
	salt, err := st.InitSetting(ctx, settingKeystoreSalt, salt)
	if err != nil {
		return nil, fmt.Errorf("keystore salt: %w", err)
	}
	rawSalt, err := base64.RawStdEncoding.DecodeString(salt)
	if err != nil {
		return nil, fmt.Errorf("keystore salt in the store is not base64: %w", err)
	}
	defaults, _ := json.Marshal(keystore.DefaultParams)
	rawParams, err := st.InitSetting(ctx, settingKeystoreParams, string(defaults))
	if err != nil {
		return nil, fmt.Errorf("keystore parameters: %w", err)
	}
	var params keystore.Params
	if err := json.Unmarshal([]byte(rawParams), &params); err != nil {
		return nil, fmt.Errorf("keystore parameters in the store: %w", err)
	}
	key, err := keystore.DeriveKey(secret, rawSalt, params)
	if err != nil {
		return nil, fmt.Errorf("derive the key-encryption key: %w", err)
	}
	return key, nil
}

// secretFile reads the data folder's keystore secret, creating it on first start.
func (c storeConfig) secretFile() ([]byte, error) {
	secret, err := keystore.SecretFile(filepath.Join(c.DataDir, secretFile))
	if err != nil {
		return nil, fmt.Errorf("keystore secret: %w", err)
	}
	return secret, nil
}
