.PHONY: run test build bench docs

run:
	go run ./cmd/pingapi serve

test:
	scripts/test

build:
	deploy/build.sh pingapi

docs:
	go run github.com/swaggo/swag/cmd/swag@v1.16.6 init -g server.go -d api,pkg/wire,pkg/report,pkg/stats,pkg/monitor,pkg/tcpecho -o api/docs --outputTypes json --parseInternal
