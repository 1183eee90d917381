package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"

	"github.com/connrules/connrules/cmd/internal/service"
)

// A key is configured by its hash; the secret itself is never stored.
func ExampleHashKey() {
	fmt.Println(service.HashKey("my-secret-key"))
	// Output: sha256:1311f8fc80a7ea28d78dd7723f09c44c1754cd35160ca8e7133ae3d7f636a19a
}

// The service in process: the default policy, one app key, a decision.
func ExampleNew() {
	srv, err := service.New(context.Background(), service.Config{
		Policy: service.DefaultPolicy(),
		Keys:   []service.Key{{Name: "platform", Scope: service.ScopeApp, Hash: service.HashKey("k")}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	req := httptest.NewRequest("POST", "/v1/decide", strings.NewReader(`{"stage":"invite","now":"2026-03-02T10:00:00-08:00",
		"sender":{"id":"alice","kind":"person","tier":"free","status":"active"},
		"recipient":{"id":"bob","kind":"person","tier":"free","status":"active"},
		"pair":{"blocked":true}}`))
	req.Header.Set("Authorization", "Bearer k")
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, req)
	fmt.Print(w.Code, " ", w.Body.String())
	// Output: 200 {"outcome":"deny","message":"Unable to connect. You can't send an invitation to this member right now."}
}
