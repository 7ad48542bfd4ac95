import Foundation
import Kernel

/// A CSV file being imported into leads, contacts or companies: uploaded, then run (as a dry run that only reports
/// what would happen, or for real) by a job that records its progress after every batch of rows.
package struct CRMImport: Sendable, Equatable, Encodable {
    package enum Status: String, Sendable, Codable, CaseIterable {
        /// Uploaded; waiting for a mapping and a start.
        case uploaded
        case queued
        case running
        case done
        case failed
    }

    /// What a row whose record exists already (same email, phone or domain, or the same row imported before)
    /// does to it.
    package enum OnDuplicate: String, Sendable, Codable, CaseIterable {
        case skip
        case update
    }

    package struct Progress: Sendable, Equatable, Codable {
        package var processed = 0
        package var created = 0
        package var updated = 0
        package var skipped = 0
        package var rejected = 0
    }

    package let id: ID<CRMImport>
    package let entity: CustomField.Entity
    package let filename: String
    package let columns: [String]
    package let rowCount: Int
    package var status: Status
    package var dryRun: Bool
    /// CSV column → record field (`email`, `tags`, `cf.<key>`); unmapped columns are left out.
    package var mapping: [String: String]
    package var onDuplicate: OnDuplicate
    package var progress: Progress
    package var error: String?
    package let createdBy: String
    /// The owner of the records it creates without an owner column or assignment rule: the uploading user
    /// (`nil` when an API key uploaded it).
    package let defaultOwner: String?
    package let createdAt: Date
    package var startedAt: Date?
    package var finishedAt: Date?

    /// At most this many rows and columns per file.
    package static let maxRows = 100_000
    package static let maxColumns = 100
    /// Rows per transaction (and per progress step).
    package static let batchSize = 200

    enum CodingKeys: String, CodingKey {
        case id, entity, filename, columns, status, mapping, progress, error
        case rowCount = "row_count"
        case dryRun = "dry_run"
        case onDuplicate = "on_duplicate"
        case createdBy = "created_by"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case suggestedMapping = "suggested_mapping"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(entity, forKey: .entity)
        try container.encode(filename, forKey: .filename)
        try container.encode(columns, forKey: .columns)
        try container.encode(rowCount, forKey: .rowCount)
        try container.encode(status, forKey: .status)
        try container.encode(dryRun, forKey: .dryRun)
        try container.encode(mapping, forKey: .mapping)
        try container.encode(Self.suggestedMapping(columns, entity: entity), forKey: .suggestedMapping)
        try container.encode(onDuplicate, forKey: .onDuplicate)
        try container.encode(progress, forKey: .progress)
        try container.encode(error, forKey: .error)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(RFC3339.string(from: createdAt), forKey: .createdAt)
        try container.encode(startedAt.map(RFC3339.string(from:)), forKey: .startedAt)
        try container.encode(finishedAt.map(RFC3339.string(from:)), forKey: .finishedAt)
    }

    /// The fields a column may be mapped to (besides `cf.<key>`).
    package static func fields(_ entity: CustomField.Entity) -> [String] {
        switch entity {
        case .lead:
            ["first_name", "last_name", "email", "phone", "company", "job_title", "source", "score", "owner_id", "tags", "notes"]
        case .contact: ["first_name", "last_name", "email", "phone", "job_title", "owner_id", "tags", "notes"]
        case .company: ["name", "domain", "industry", "employees", "phone", "address", "owner_id", "tags", "notes"]
        case .deal: []
        }
    }

    /// Column → field for the columns whose header names a field (`First name`, `E-mail`, `Company name`, ...).
    package static func suggestedMapping(_ columns: [String], entity: CustomField.Entity) -> [String: String] {
        let known = Set(fields(entity))
        let synonyms: [String: String] = [
            "firstname": "first_name", "givenname": "first_name", "forename": "first_name", "lastname": "last_name",
            "surname": "last_name", "familyname": "last_name", "mail": "email", "emailaddress": "email",
            "telephone": "phone", "phonenumber": "phone", "mobile": "phone", "tel": "phone", "title": "job_title",
            "position": "job_title", "jobtitle": "job_title", "companyname": entity == .company ? "name" : "company",
            "organisation": entity == .company ? "name" : "company", "organization": entity == .company ? "name" : "company",
            "website": "domain", "url": "domain", "note": "notes", "comments": "notes", "tag": "tags", "labels": "tags",
        ]
        var mapping: [String: String] = [:]
        var used: Set<String> = []
        for column in columns {
            let squeezed = column.lowercased().filter { $0.isLetter || $0.isNumber }
            let snake = column.lowercased().split { !($0.isLetter || $0.isNumber) }.joined(separator: "_")
            let field =
                known.contains(snake)
                ? snake : known.contains(squeezed) ? squeezed : synonyms[squeezed].flatMap { known.contains($0) ? $0 : nil }
            if let field, used.insert(field).inserted { mapping[column] = field }
        }
        return mapping
    }
}
