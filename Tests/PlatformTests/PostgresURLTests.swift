import Testing

@testable import Platform

@Suite struct PostgresURLTests {
    @Test func partsOfTheURLReachTheConfiguration() throws {
        let configuration = try PostgresURL.parse("postgres://app%40x:p%2Fss@db.internal:6543/inopsio?sslmode=disable")
        #expect(configuration.host == "db.internal")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "app@x")
        #expect(configuration.password == "p/ss")
        #expect(configuration.database == "inopsio")
    }

    @Test(arguments: ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"])
    func libpqSSLModesAreAccepted(_ mode: String) throws {
        _ = try PostgresURL.parse("postgres://app@localhost/inopsio?sslmode=\(mode)")
    }

    @Test(arguments: [
        "postgres://localhost/inopsio", "mysql://app@localhost/db", "postgres://app@/db",
        "postgres://app@localhost/db?sslmode=sometimes",
    ])
    func badURLsAreRefused(_ url: String) {
        #expect(throws: DatabaseError.self) { try PostgresURL.parse(url) }
    }
}
