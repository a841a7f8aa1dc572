interface AppIconProps {
  application: { id: string; name: string; icon_hash: string | null };
  size?: "small" | "large";
}

/** The application's icon from the server's icon route, or its initial on a coloured disc. */
export function AppIcon({ application, size = "small" }: AppIconProps) {
  if (application.icon_hash) {
    return (
      <img
        className={`app-icon ${size}`}
        src={`/icons/${application.id}/${application.icon_hash}`}
        alt=""
        width={size === "large" ? 64 : 40}
        height={size === "large" ? 64 : 40}
      />
    );
  }
  return (
    <span className={`app-icon ${size} placeholder`} aria-hidden="true">
      {application.name.slice(0, 1).toUpperCase()}
    </span>
  );
}
