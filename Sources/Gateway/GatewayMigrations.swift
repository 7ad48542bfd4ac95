import Platform

/// The gateway's tables (the block list arrives with its own change).
enum GatewayMigrations {
    static let all: [Migration] = []
}
