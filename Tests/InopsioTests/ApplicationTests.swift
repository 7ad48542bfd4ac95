import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Platform
import TestSupport
import Testing

@testable import Inopsio

/// Runs the real composition root (`buildApplication`) on a throwaway SQLite database.
func withComposedApp(
    configure: @Sendable (inout InopsioConfiguration) -> Void = { _ in },
    _ body: @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let modules = ModuleCatalog.all()
    try await withTestDatabase(.sqlite, migrations: PlatformMigrations.all + modules.flatMap(\.migrations)) {
        database, given in
        var configuration = given
        configure(&configuration)
        let app = try buildApplication(
            configuration: configuration, database: database, modules: modules, sink: nil,
            logger: TestEnvironment.logger)
        try await app.test(.router) { client in try await body(client) }
    }
}

@Suite struct ApplicationTests {
    @Test func startPageExplainsTheProductAndLinksToSignIn() async throws {
        try await withComposedApp { client in
            try await client.execute(uri: "/", method: .get, headers: [.accept: "text/html"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let html = String(buffer: response.body)
                #expect(html.contains("<html lang=\"en\" dir=\"ltr\""))
                #expect(html.contains("href=\"/login\""))
                #expect(html.contains("CRM"))
                #expect(html.contains("swift run inopsio serve"))
                #expect(!html.contains("style=\""))
            }
        }
    }

    @Test func startPageCSPUsesAFreshNonceAndNoInlineAllowance() async throws {
        try await withComposedApp { client in
            let first = try await client.execute(uri: "/", method: .get) { $0.headers[.contentSecurityPolicy] }
            let second = try await client.execute(uri: "/", method: .get) { $0.headers[.contentSecurityPolicy] }
            let policy = try #require(first)
            #expect(policy.contains("'nonce-"))
            #expect(!policy.contains("unsafe-inline"))
            #expect(!policy.contains("unsafe-eval"))
            #expect(first != second)
        }
    }

    @Test func arabicIsRenderedRightToLeftFromAcceptLanguage() async throws {
        try await withComposedApp { client in
            try await client.execute(uri: "/", method: .get, headers: [.acceptLanguage: "ar, en;q=0.5"]) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("<html lang=\"ar\" dir=\"rtl\""))
                #expect(response.headers[.contentLanguage] == "ar")
            }
        }
    }

    @Test func languageChoiceIsRememberedInACookie() async throws {
        try await withComposedApp { client in
            try await client.execute(uri: "/?lang=fr", method: .get) { response in
                #expect(String(buffer: response.body).contains("<html lang=\"fr\""))
                #expect(response.headers[.setCookie]?.contains("inopsio_lang=fr") == true)
            }
            try await client.execute(uri: "/", method: .get, headers: [.cookie: "inopsio_lang=fr"]) { response in
                #expect(String(buffer: response.body).contains("<html lang=\"fr\""))
            }
        }
    }

    @Test func darkThemeChoiceIsApplied() async throws {
        try await withComposedApp { client in
            try await client.execute(uri: "/?theme=dark", method: .get) { response in
                #expect(String(buffer: response.body).contains("data-theme=\"dark\""))
            }
        }
    }

    @Test func stylesheetIsServedUnderItsFingerprintWithLongCache() async throws {
        try await withComposedApp { client in
            let html = try await client.execute(uri: "/", method: .get) { String(buffer: $0.body) }
            let match = try #require(html.firstMatch(of: /href="(\/assets\/app\.[0-9a-f]+\.css)"/))
            try await client.execute(uri: String(match.1), method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/css; charset=utf-8")
                #expect(response.headers[.cacheControl] == "public, max-age=31536000, immutable")
                #expect(String(buffer: response.body).contains("prefers-color-scheme: dark"))
                let etag = try #require(response.headers[.eTag])
                try await client.execute(uri: String(match.1), method: .get, headers: [.ifNoneMatch: etag]) {
                    #expect($0.status == .notModified)
                }
            }
            try await client.execute(uri: "/assets/app.0000000000.css", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func browsersGetAnHTMLNotFoundPageButAPIClientsGetProblemJSON() async throws {
        try await withComposedApp { client in
            try await client.execute(uri: "/no-such-page", method: .get, headers: [.accept: "text/html"]) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(String(buffer: response.body).contains("404"))
            }
            try await client.execute(uri: "/api/v1/none", method: .get, headers: [.accept: "text/html"]) { response in
                #expect(response.headers[.contentType] == "application/problem+json")
            }
        }
    }

    @Test func unknownModuleNameIsAConfigurationError() throws {
        #expect(throws: ConfigurationError.self) { try ModuleCatalog.select(["website", "payroll"]) }
        #expect(try ModuleCatalog.select(nil).map(\.name) == ["gateway", "identity", "crm", "messaging", "website"])
    }
}
