import Foundation
import Kernel
import Platform
import TestSupport
import Testing

@Suite struct TenantStoreTests {
    @Test(arguments: TestBackend.available)
    func createdTenantCanBeFoundBySlugAndID(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let store = TenantStore(database: database)
            let created = try await store.create(slug: "acme", name: "Acme Ltd")
            #expect(created.status == .active)
            #expect(created.plan == "standard")
            #expect(try await store.find(slug: "acme") == created)
            #expect(try await store.find(id: created.id) == created)
            #expect(try await store.find(slug: "nobody") == nil)
        }
    }

    @Test(arguments: TestBackend.available)
    func duplicateSlugIsAConflict(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let store = TenantStore(database: database)
            _ = try await store.create(slug: "acme", name: "Acme")
            await #expect(throws: DomainError.conflict("a tenant with slug acme already exists")) {
                try await store.create(slug: "acme", name: "Other Acme")
            }
        }
    }

    @Test(arguments: TestBackend.available)
    func listPagesInSlugOrder(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let store = TenantStore(database: database)
            for slug in ["delta", "alpha", "charlie", "bravo"] { _ = try await store.create(slug: slug, name: slug) }
            let first = try await store.list(limit: 3, afterSlug: nil)
            #expect(first.map(\.slug) == ["alpha", "bravo", "charlie"])
            let second = try await store.list(limit: 3, afterSlug: first.last?.slug)
            #expect(second.map(\.slug) == ["delta"])
        }
    }

    @Test(arguments: TestBackend.available)
    func suspensionIsStored(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let store = TenantStore(database: database)
            let tenant = try await store.create(slug: "acme", name: "Acme", plan: "enterprise")
            #expect(try await store.setStatus(.suspended, of: tenant.id))
            #expect(try await store.find(id: tenant.id)?.status == .suspended)
            #expect(try await store.setStatus(.active, of: .generate()) == false)
        }
    }

    @Test(arguments: ["ab", "Acme", "9lives", "acme-", "ac--me", "api", "a_b", String(repeating: "a", count: 64)])
    func invalidSlugsAreRejected(_ slug: String) {
        let issues = TenantRules.validate(slug: slug, name: "Name", plan: "standard")
        #expect(issues.map(\.field) == ["slug"])
    }

    @Test func nameAndPlanAreValidated() {
        #expect(TenantRules.validate(slug: "acme", name: " ", plan: "standard").map(\.field) == ["name"])
        #expect(TenantRules.validate(slug: "acme", name: "Acme", plan: "gold").map(\.field) == ["plan"])
        #expect(TenantRules.validate(slug: "acme-2", name: "Acme", plan: "enterprise").isEmpty)
    }
}
