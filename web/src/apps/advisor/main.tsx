/** The advisor app's entry point (placeholder until the app lands). */
import { createRoot } from "react-dom/client";
import "../../styles.css";

createRoot(document.getElementById("root")!).render(<h1>advisor-dispatch: advisor</h1>);
