package command

// The command table in zz_generated.go comes from a live redis-server
// 7.0.15; see gen/main.go for how to re-run the generator.
//go:generate go run ./gen -out zz_generated.go
