import Foundation
import HTTPTypes
import Kernel
import TestSupport
import Testing

/// API.md: every id a request body carries (owner, assignee, member, recipient, any reference) names something of
/// the caller's tenant, else 422 naming the field. Generated from every served OpenAPI document: each reference
/// place of each documented body is sent by tenant B's admin with tenant A's id of the same kind (refused), and
/// with B's own (not refused for that field).
@Suite struct CrossTenantReferenceTests {
    /// What a reference field names, by its name in a body (the last key of its place).
    static func kind(of place: String, module: String, in body: JSONValue) -> String? {
        let key = place.split(separator: ".").last.map { String($0.split(separator: "[").first ?? $0) } ?? place
        switch key {
        case "owner_id", "users", "user_id", "assignee_id": return "user"
        case "company_id": return "company"
        case "contact_id", "contact_ids": return module == "messaging" ? "messaging_contact" : "contact"
        case "pipeline_id": return "pipeline"
        case "stage_id": return "stage"
        case "list_id": return "list"
        case "lead_id": return "lead"
        case "deal_id": return "deal"
        case "id" where place.hasPrefix("targets["):
            // An activity's target: its kind is the sibling `type`.
            let typePlace = String(place.dropLast(2)) + "type"
            if case .string(let type)? = body.value(at: typePlace) { return type }
            return nil
        default: return nil
        }
    }

    /// The kind of a collection's records, for a bulk change's `ids`.
    static let singular = ["leads": "lead", "companies": "company", "contacts": "contact", "deals": "deal"]

    /// Fields ending in `_id` that are not references to a tenant's records.
    static let notReferences: Set<String> = ["client_id"]

    /// Reference places of `body`, with their kinds; a place that looks like a reference but has no kind here is
    /// reported, so that a new module's reference fields are mapped before they pass.
    static func references(in body: JSONValue, module: String) -> (known: [(String, String)], unmapped: [String]) {
        var known: [(String, String)] = []
        var unmapped: [String] = []
        for place in body.stringPlaces {
            let key = place.split(separator: ".").last.map { String($0.split(separator: "[").first ?? $0) } ?? place
            if let kind = kind(of: place, module: module, in: body) {
                known.append((place, kind))
            } else if (key.hasSuffix("_id") || key.hasSuffix("_ids")) && !notReferences.contains(key) {
                unmapped.append(place)
            }
        }
        return (known, unmapped)
    }

    @Test(arguments: TestBackend.available)
    func everyReferenceOfEveryDocumentedBodyRefusesAnotherTenantsIDs(_ backend: TestBackend) async throws {
        try await DocumentedAPI.with(backend) { api in
            let a = try await api.signUp(slug: "refs-a-\(backend)")
            let b = try await api.signUp(slug: "refs-b-\(backend)")
            let foreign = try await Self.records(api, a)
            let own = try await Self.records(api, b)
            var tried = 0
            for operation in api.operations {
                guard var sample = operation.sampleBody, operation.bodyType.contains("json") else { continue }
                // A body that chooses between alternatives (a bulk change's `patch` or `delete`) takes the first.
                if case .object(var fields) = sample, fields["patch"] != nil {
                    fields["delete"] = nil
                    sample = .object(fields)
                }
                let (references, unmapped) = Self.references(in: sample, module: operation.module)
                // Every reference names B's own record of its kind, so that only the one varied can be refused; a bulk
                // change's `ids` (what it changes, not references: another tenant's are answered as missing) too.
                for (place, kind) in references {
                    if let ours = own.ids[kind] { sample = sample.replacingString(at: place, with: ours) }
                }
                if let collection = operation.path.split(separator: "/").dropLast().last,
                    let ours = own.ids[Self.singular[String(collection)] ?? ""]
                {
                    for place in sample.stringPlaces where place.hasPrefix("ids[") {
                        sample = sample.replacingString(at: place, with: ours)
                    }
                }
                #expect(unmapped.isEmpty, "\(operation): reference fields without a kind here: \(unmapped)")
                let path = operation.concretePath(ids: own.pathIDs)
                // Every refusal first: an accepted request may change what the path names (a lead converted).
                var refusals: [(String, String, DocumentedAPI.Reply)] = []
                for (place, kind) in references {
                    guard let theirs = foreign.ids[kind], own.ids[kind] != nil else {
                        Issue.record("\(operation) \(place): no \(kind) made for the test")
                        continue
                    }
                    let refused = try await api.send(
                        operation, path: path, body: sample.replacingString(at: place, with: theirs), token: b.token)
                    refusals.append((place, kind, refused))
                }
                for (place, kind, refused) in refusals {
                    let accepted = try await api.send(
                        operation, path: path, body: sample.replacingString(at: place, with: own.ids[kind] ?? ""),
                        token: b.token)
                    if accepted.status == .notFound && refused.status == .notFound && operation.hasPathParameters {
                        // The path names nothing this test made; the same body code is covered through the
                        // collection's create.
                        continue
                    }
                    tried += 1
                    #expect(
                        Self.refuses(refused, place: place),
                        "\(operation) \(place) with tenant A's \(kind): \(refused.status) \(refused.body)")
                    #expect(
                        accepted.status.code < 500 && !Self.names(accepted, place: place),
                        "\(operation) \(place) with B's own \(kind): \(accepted.status) \(accepted.body)")
                }
            }
            #expect(tried >= 15, "reference places tried: \(tried)")
        }
    }

    /// Whether `reply` is the 422 naming `place`; a bulk change answers each record's outcome (200), the 422 is
    /// then its record's, naming the place within `patch`.
    static func refuses(_ reply: DocumentedAPI.Reply, place: String) -> Bool {
        if reply.status == .unprocessableContent { return names(reply, place: place) }
        guard reply.status == .ok, place.hasPrefix("patch."), case .object(let body)? = reply.json,
            case .array(let results)? = body["results"], !results.isEmpty
        else { return false }
        let inner = String(place.dropFirst("patch.".count))
        return results.allSatisfy { result in
            guard case .object(let fields) = result, fields["status"] == .integer(422),
                case .array(let errors)? = fields["errors"]
            else { return false }
            return errors.contains { error in
                guard case .object(let issue) = error, case .string(let field)? = issue["field"] else { return false }
                return field == inner || field == place || inner.hasPrefix(field + "[")
            }
        }
    }

    /// Whether a problem answer names `place` (or the array or object it is in: `targets[0]` for
    /// `targets[0].id`).
    static func names(_ reply: DocumentedAPI.Reply, place: String) -> Bool {
        reply.problemFields.contains { $0 == place || place.hasPrefix($0 + "[") || place.hasPrefix($0 + ".") }
    }

    /// One record of each kind a reference can name, made through the API for the tenant of `admin`.
    struct Records {
        var ids: [String: String] = [:]
        /// Ids to put in paths, by the collection path before `{id}`.
        var pathIDs: [String: String] = [:]
    }

    static func records(_ api: DocumentedAPI, _ admin: (token: String, userID: String)) async throws -> Records {
        var records = Records()
        records.ids["user"] = admin.userID
        func create(_ path: String, _ body: JSONValue) async throws -> [String: JSONValue] {
            let reply = try await api.post(path, body: body, token: admin.token)
            guard reply.status == .created || reply.status == .ok, case .object(let fields)? = reply.json else {
                throw DocumentedAPIError.setUpFailed("\(path): \(reply.status) \(reply.body)")
            }
            if case .string(let id)? = fields["id"] { records.pathIDs[path] = id }
            return fields
        }
        let unique = UUID().uuidString.prefix(8).lowercased()
        func id(_ fields: [String: JSONValue]) -> String? {
            if case .string(let id)? = fields["id"] { return id }
            return nil
        }
        records.ids["company"] = id(try await create("/api/v1/crm/companies", ["name": .string("Co \(unique)")]))
        records.ids["contact"] = id(
            try await create(
                "/api/v1/crm/contacts", ["first_name": "Cee", "email": .string("c-\(unique)@example.com")]))
        records.ids["lead"] = id(
            try await create("/api/v1/crm/leads", ["first_name": "Lee", "email": .string("l-\(unique)@example.com")]))
        // The lead in paths is qualified, so that its conversion reaches the references of its body.
        let qualified = try await create(
            "/api/v1/crm/leads", ["first_name": "Quinn", "email": .string("q-\(unique)@example.com")])
        if let lead = id(qualified) {
            for status: JSONValue in ["contacted", "qualified"] {
                let reply = try await api.send(
                    DocumentedOperation(
                        module: "crm", method: .patch, path: "/api/v1/crm/leads/\(lead)",
                        bodyType: "application/json", bodySchema: nil, needsBearer: true),
                    body: ["status": status], token: admin.token)
                guard reply.status == .ok else { throw DocumentedAPIError.setUpFailed("qualifying: \(reply.body)") }
            }
        }
        let deal = try await create(
            "/api/v1/crm/deals",
            ["name": .string("Deal \(unique)"), "value": ["amount_minor": .integer(100_000), "currency": "EUR"]])
        records.ids["deal"] = id(deal)
        if case .string(let pipeline)? = deal["pipeline_id"], case .string(let stage)? = deal["stage_id"] {
            records.ids["pipeline"] = pipeline
            records.ids["stage"] = stage
            records.pathIDs["/api/v1/crm/pipelines"] = pipeline
        }
        records.ids["messaging_contact"] = id(
            try await create("/api/v1/messaging/contacts", ["email": .string("m-\(unique)@example.com")]))
        records.ids["list"] = id(try await create("/api/v1/messaging/lists", ["name": .string("List \(unique)")]))
        let activity = try await create(
            "/api/v1/crm/activities",
            ["type": "note", "body": "x", "targets": [["type": "lead", "id": .string(records.ids["lead"] ?? "")]]])
        _ = activity
        _ = try await create(
            "/api/v1/crm/assignment-rules",
            ["name": .string("Rule \(unique)"), "method": "user", "users": [.string(admin.userID)]])
        return records
    }
}

extension JSONValue {
    /// The value at a place of `stringPlaces`' form (`targets[0].type`), if there is one.
    func value(at place: String) -> JSONValue? {
        var current: JSONValue? = self
        for component in place.split(separator: ".") {
            var name = Substring(component)
            var indexes: [Int] = []
            while let open = name.lastIndex(of: "["), let index = Int(name[name.index(after: open)...].dropLast()) {
                indexes.insert(index, at: 0)
                name = name[..<open]
            }
            if case .object(let fields)? = current { current = fields[String(name)] } else { return nil }
            for index in indexes {
                guard case .array(let items)? = current, index < items.count else { return nil }
                current = items[index]
            }
        }
        return current
    }
}
