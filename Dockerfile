# Build: a static binary, the same flags CI builds with (.ci/run).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/go-leader-election .

# Run: distroless static has CA certificates and a non-root user, and no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/go-leader-election /go-leader-election
USER nonroot:nonroot
EXPOSE 3000 8081
ENTRYPOINT ["/go-leader-election"]
