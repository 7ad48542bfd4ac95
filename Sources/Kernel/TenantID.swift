/// Marks the ids of tenants (one company each); the tenant record itself lives in Platform.
package enum TenantEntity {}

/// The identity of a tenant. Every tenant-owned row and every repository call carries one.
package typealias TenantID = ID<TenantEntity>
