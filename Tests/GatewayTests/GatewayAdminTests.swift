import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import Kernel
import NIOCore
import Platform
import TestSupport
import Testing

@Suite struct GatewayAdminTests {
    static let routes =
        #"{"routes": [{"name": "hello", "match": {"path_prefix": "/api/v1/local/"}, "module": "local"}]}"#
    static let admin: HTTPFields = [
        .authorization: "Bearer test:admin:gateway.routes:read,gateway.blocklist:read,gateway.blocklist:write"
    ]

    func makeOperator(_ database: any Database) async throws {
        _ = try await database.system { tx in
            try await TenantStore.insert(
                Tenant(
                    id: TestAuthenticator.tenant, slug: "ops", name: "Operators", status: .active, plan: "standard",
                    createdAt: Date()), in: tx)
        }
    }

    @Test func operatorAdminsSeeTheRouteTableInForce() async throws {
        try await withGateway(routes: Self.routes, operatorTenant: "ops") { client, _, database in
            try await makeOperator(database)
            let response = try await client.execute(uri: "/api/v1/gateway/routes", method: .get, headers: Self.admin)
            #expect(response.status == .ok)
            let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            let names = (body?["data"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names == ["hello", "local"])
        }
    }

    @Test func adminsOfOtherTenantsAreRefused() async throws {
        try await withGateway(routes: Self.routes, operatorTenant: "someone-else") { client, _, database in
            try await makeOperator(database)
            let response = try await client.execute(uri: "/api/v1/gateway/routes", method: .get, headers: Self.admin)
            #expect(response.status == .forbidden)
        }
    }

    @Test func callersWithoutThePermissionAreRefused() async throws {
        try await withGateway(routes: Self.routes, operatorTenant: "ops") { client, _, database in
            try await makeOperator(database)
            let response = try await client.execute(
                uri: "/api/v1/gateway/upstreams", method: .get,
                headers: [.authorization: "Bearer test:u:crm.leads:read"])
            #expect(response.status == .forbidden)
            #expect(try await client.execute(uri: "/api/v1/gateway/upstreams", method: .get).status == .unauthorized)
        }
    }

    @Test func blocksAreAddedListedAndRemovedThroughTheAPI() async throws {
        try await withGateway(routes: Self.routes, operatorTenant: "ops") { client, _, database in
            try await makeOperator(database)
            var headers = Self.admin
            headers[.contentType] = "application/json"
            let invalid = try await client.execute(
                uri: "/api/v1/gateway/blocks", method: .post, headers: headers,
                body: ByteBuffer(string: #"{"kind": "ip", "value": "not-an-ip", "reason": "x"}"#))
            #expect(invalid.status == .unprocessableContent || invalid.status == .badRequest)
            let created = try await client.execute(
                uri: "/api/v1/gateway/blocks", method: .post, headers: headers,
                body: ByteBuffer(
                    string: #"{"kind": "ip", "value": "198.51.100.0/24", "reason": "scanner", "ttl_seconds": 3600}"#))
            #expect(created.status == .created)
            let location = try #require(created.headers[.location])
            let list = try await client.execute(uri: "/api/v1/gateway/blocks", method: .get, headers: Self.admin)
            #expect(String(buffer: list.body).contains("198.51.100.0/24"))
            let removed = try await client.execute(uri: location, method: .delete, headers: Self.admin)
            #expect(removed.status == .noContent)
            let again = try await client.execute(uri: location, method: .delete, headers: Self.admin)
            #expect(again.status == .notFound)
        }
    }
}
