/** What every screen is given: the branch on screen (null until an admin picks one). */
export interface ScreenProps {
  branchId: string | null;
}
