/// The platform's own tables: tenants. Owned by the pseudo-module `platform`, applied before any module's.
package enum PlatformMigrations {
    package static let all: [Migration] = [
        Migration(module: "platform", number: 1, name: "create_tenants") { dialect in
            [
                """
                CREATE TABLE tenants (
                    id \(dialect.uuidType) PRIMARY KEY,
                    slug TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
                    plan TEXT NOT NULL DEFAULT 'standard',
                    created_at \(dialect.timestampType) NOT NULL
                )
                """
            ]
        }
    ]
}
