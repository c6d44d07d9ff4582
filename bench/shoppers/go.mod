module corral.example/shoppers

go 1.19
