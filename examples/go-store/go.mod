module corral.example/go-store

go 1.19
