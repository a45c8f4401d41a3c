namespace QuantBuild.Engine.Cache;

/// <summary>What the remote store recorded about a downloaded object, before any check of its bytes.</summary>
/// <param name="Sha256">The digest its writer recorded beside it, or null when none was.</param>
/// <param name="Version">The store's version of the object (an ETag), to delete exactly this one if it is damaged.</param>
public sealed record RemoteBlob(string? Sha256, string? Version);
